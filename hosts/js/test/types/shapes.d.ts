// Written by `guestmem describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  measure(rect: unknown): unknown; /* throws on failure */
  measure_compact(rect: Uint8Array): Uint8Array; /* throws on failure */
}
