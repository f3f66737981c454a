// Written by `guestmem describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  reserve(size: string): number; /* throws on failure */
  owned_fails(data: Uint8Array): Uint8Array; /* throws on failure */
  fail_unprintably(text: string): number; /* throws on failure */
  owned_panics(data: Uint8Array): number;
  panic_with(text: string): number;
  owned_after(text: string, data: Uint8Array): Uint8Array;
  fail_misusing(text: string): number; /* throws on failure */
}
