// Written by `harness describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  reserve(size: string): number; /* throws on failure */
  owned_after(text: string, data: Uint8Array): Uint8Array;
  fail_unprintably(text: string): number; /* throws on failure */
  owned_fails(data: Uint8Array): Uint8Array; /* throws on failure */
  owned_panics(data: Uint8Array): number;
  fail_misusing(text: string): number; /* throws on failure */
  panic_with(text: string): number;
}
