// Written by `harness describe --typescript` from the module's guestmem.interface section.

export interface Exports {
  greet(name: string): string; /* throws on failure */
}

export interface Imports {
  env: {
    log(line: string): void;
    salutation(): string; /* throws on failure */
  };
}
