// Written by `harness describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  measure_compact(rect: Uint8Array): Uint8Array; /* throws on failure */
  measure(rect: unknown): unknown; /* throws on failure */
}
