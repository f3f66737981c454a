// Type-level test, run by `tsc -p tsconfig.host.json`: the hand-written declarations users get
// from 'guestmem-host' (hosts/js/guestmem.d.ts) against the JSDoc of the module that runs
// (hosts/js/guestmem.mjs). Every export, type and class member must be in both, with types
// assignable both ways; a drift is a compile error on the line that names it.

import type * as declared from 'guestmem-host';
import type * as implemented from '../../hosts/js/guestmem.mjs';

type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
type Assert<T extends true> = T;
/** Public members only: `#private` fields make classes nominal, which is not what is compared. */
type Members<T> = { [K in keyof T]: T[K] };
/** A class's instance side, compared member by member (names must match exactly). */
type SameMembers<A, B> = Same<keyof A, keyof B> extends true ? Same<Members<A>, Members<B>> : false;

type D = typeof declared;
type I = typeof implemented;

export type Checks = [
  // The same value exports, and each of the same type.
  Assert<Same<keyof D, keyof I>>,
  Assert<Same<D['ABI_VERSION'], I['ABI_VERSION']>>,
  Assert<Same<D['REQUIRED_EXPORTS'], I['REQUIRED_EXPORTS']>>,
  Assert<Same<D['DEFAULT_REUSE_INPUT_BYTES'], I['DEFAULT_REUSE_INPUT_BYTES']>>,
  Assert<Same<D['abiExportName'], I['abiExportName']>>,
  Assert<Same<D['hostFunction'], I['hostFunction']>>,
  // The exported types.
  Assert<Same<declared.GuestErrorKind, implemented.GuestErrorKind>>,
  Assert<Same<declared.Block, implemented.Block>>,
  Assert<Same<declared.Input, implemented.Input>>,
  Assert<Same<declared.Arg, implemented.Arg>>,
  Assert<Same<declared.GuestSource, implemented.GuestSource>>,
  Assert<Same<declared.Wasi, implemented.Wasi>>,
  Assert<Same<declared.GuestOptions, implemented.GuestOptions>>,
  Assert<Same<declared.InstantiateOptions, implemented.InstantiateOptions>>,
  Assert<Same<declared.HostParam, implemented.HostParam>>,
  Assert<Same<declared.HostResult, implemented.HostResult>>,
  Assert<Same<declared.HostSignature, implemented.HostSignature>>,
  Assert<Same<declared.HostFunction, implemented.HostFunction>>,
  Assert<Same<declared.HostFunctions, implemented.HostFunctions>>,
  Assert<Same<declared.HostArgs<{ params: ['bytes', 'string', 'u32', 'i64'] }>, implemented.HostArgs<{ params: ['bytes', 'string', 'u32', 'i64'] }>>>,
  Assert<Same<declared.HostReturn<{ result: 'u64' }>, implemented.HostReturn<{ result: 'u64' }>>>,
  Assert<Same<declared.HostValue<'u64'>, implemented.HostValue<'u64'>>>,
  // GuestError: constructor and members.
  Assert<Same<ConstructorParameters<D['GuestError']>, ConstructorParameters<I['GuestError']>>>,
  Assert<SameMembers<declared.GuestError, implemented.GuestError>>,
  // Guest: constructor, instantiate, and every instance member.
  Assert<Same<ConstructorParameters<D['Guest']>, ConstructorParameters<I['Guest']>>>,
  Assert<Same<Parameters<D['Guest']['instantiate']>, Parameters<I['Guest']['instantiate']>>>,
  Assert<SameMembers<Awaited<ReturnType<D['Guest']['instantiate']>>, Awaited<ReturnType<I['Guest']['instantiate']>>>>,
  Assert<SameMembers<declared.Guest, implemented.Guest>>,
];
