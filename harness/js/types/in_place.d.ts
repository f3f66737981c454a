// Written by `harness describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  ascii_upper(text: Uint8Array): Uint8Array;
  echo_owned(bytes: Uint8Array): Uint8Array;
}
