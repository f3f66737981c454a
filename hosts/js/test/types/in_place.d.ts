// Written by `guestmem describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  echo_owned(bytes: Uint8Array): Uint8Array;
  ascii_upper(text: Uint8Array): Uint8Array;
}
