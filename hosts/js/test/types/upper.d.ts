// Written by `guestmem describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  upper(text: string): string;
}
