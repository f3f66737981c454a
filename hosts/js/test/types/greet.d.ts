// Written by `guestmem describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  greet(name: string): string; /* throws on failure */
}

export interface Imports {
  env: {
    salutation(): string; /* throws on failure */
    log(line: string): void;
  };
}
