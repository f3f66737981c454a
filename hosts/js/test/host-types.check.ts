// Type-level test, run by `tsc -p tsconfig.host.json`: the hand-written declarations users get
// from 'guestmem-host' (hosts/js/guestmem.d.ts) against the JSDoc of the module that runs
// (hosts/js/guestmem.mjs). Every export, type and class member must be in both, with types
// assignable both ways; a drift is a compile error on the line that names it.

import type * as declared from 'guestmem-host';
import type * as implemented from '../guestmem.mjs';

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
  Assert<Same<D['INTERFACE_SECTION'], I['INTERFACE_SECTION']>>,
  Assert<Same<D['readInterface'], I['readInterface']>>,
  Assert<Same<D['parseInterface'], I['parseInterface']>>,
  Assert<Same<D['describeInterface'], I['describeInterface']>>,
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
  Assert<Same<declared.Kind, implemented.Kind>>,
  Assert<Same<declared.InterfaceArgument, implemented.InterfaceArgument>>,
  Assert<Same<declared.InterfaceFunction, implemented.InterfaceFunction>>,
  Assert<Same<declared.Interface, implemented.Interface>>,
  Assert<Same<D['DEFAULT_MAX_INSTANCES'], I['DEFAULT_MAX_INSTANCES']>>,
  Assert<Same<declared.PoolOptions, implemented.PoolOptions>>,
  Assert<Same<declared.PoolCreateOptions, implemented.PoolCreateOptions>>,
  Assert<Same<declared.CheckoutOptions, implemented.CheckoutOptions>>,
  Assert<Same<declared.RecycleCause, implemented.RecycleCause>>,
  Assert<Same<declared.Recycles, implemented.Recycles>>,
  Assert<Same<declared.InstanceMetrics, implemented.InstanceMetrics>>,
  Assert<Same<declared.PoolMetrics, implemented.PoolMetrics>>,
  // Postcard: made by its static members only, the same ones on both sides, each schema of the
  // same value type (compared through what it decodes: `#private` makes the class nominal), and
  // an instance's members.
  Assert<Same<D['Postcard'] extends abstract new (...args: any) => any ? true : false, false>>,
  Assert<Same<I['Postcard'] extends abstract new (...args: any) => any ? true : false, false>>,
  Assert<Same<keyof D['Postcard'], keyof I['Postcard']>>,
  Assert<Same<SchemaValues<D['Postcard']>, SchemaValues<I['Postcard']>>>,
  Assert<SameMembers<declared.Postcard<Rect>, implemented.Postcard<Rect>>>,
  Assert<Same<ReturnType<typeof declaredRect.decode>, Rect>>,
  Assert<Same<ReturnType<typeof implementedRect.decode>, Rect>>,
  Assert<Same<ReturnType<typeof declaredList.decode>, (bigint | undefined)[]>>,
  Assert<Same<ReturnType<typeof implementedList.decode>, (bigint | undefined)[]>>,
  // GuestError: constructor and members.
  Assert<Same<ConstructorParameters<D['GuestError']>, ConstructorParameters<I['GuestError']>>>,
  Assert<SameMembers<declared.GuestError, implemented.GuestError>>,
  // Guest: constructor, instantiate, and every instance member.
  Assert<Same<ConstructorParameters<D['Guest']>, ConstructorParameters<I['Guest']>>>,
  Assert<Same<Parameters<D['Guest']['instantiate']>, Parameters<I['Guest']['instantiate']>>>,
  Assert<SameMembers<Awaited<ReturnType<D['Guest']['instantiate']>>, Awaited<ReturnType<I['Guest']['instantiate']>>>>,
  Assert<SameMembers<declared.Guest, implemented.Guest>>,
  // Pool and PooledGuest: constructor, create, and every instance member. Members that take or
  // return a Guest or a PooledGuest (classes with `#private` fields, so nominal) are compared
  // through those classes' members.
  Assert<Same<ConstructorParameters<D['Pool']>, ConstructorParameters<I['Pool']>>>,
  Assert<Same<Parameters<D['Pool']['create']>, Parameters<I['Pool']['create']>>>,
  Assert<Same<keyof Awaited<ReturnType<D['Pool']['create']>>, keyof declared.Pool>>,
  Assert<Same<keyof Awaited<ReturnType<I['Pool']['create']>>, keyof implemented.Pool>>,
  Assert<Same<keyof declared.Pool, keyof implemented.Pool>>,
  Assert<Same<Omit<declared.Pool, 'checkout' | 'use'>, Omit<implemented.Pool, 'checkout' | 'use'>>>,
  Assert<Same<Parameters<declared.Pool['checkout']>, Parameters<implemented.Pool['checkout']>>>,
  Assert<Same<keyof Awaited<ReturnType<declared.Pool['checkout']>>, keyof implemented.PooledGuest>>,
  Assert<Same<keyof Awaited<ReturnType<implemented.Pool['checkout']>>, keyof declared.PooledGuest>>,
  Assert<Same<Parameters<declared.Pool['use']>[1], Parameters<implemented.Pool['use']>[1]>>,
  Assert<Same<keyof Parameters<Parameters<declared.Pool['use']>[0]>[0], keyof implemented.PooledGuest>>,
  Assert<Same<keyof declared.PooledGuest, keyof implemented.PooledGuest>>,
  Assert<Same<Omit<declared.PooledGuest, 'guest' | 'call'>, Omit<implemented.PooledGuest, 'guest' | 'call'>>>,
  Assert<SameMembers<declared.PooledGuest['guest'], implemented.PooledGuest['guest']>>,
  Assert<SameMembers<Parameters<Parameters<declared.PooledGuest['call']>[0]>[0], Parameters<Parameters<implemented.PooledGuest['call']>[0]>[0]>>,
  // Guest<E>: `exports` is E, as `guestmem describe --typescript` declares it.
  Assert<SameMembers<declared.Guest<UpperExports>, implemented.Guest<UpperExports>>>,
  Assert<Same<declared.Guest<UpperExports>['exports'], UpperExports>>,
  // A typed Guest is still a Guest, for functions that take any.
  Assert<declared.Guest<UpperExports> extends declared.Guest ? true : false>,
  Assert<implemented.Guest<UpperExports> extends implemented.Guest ? true : false>,
  Assert<Same<Awaited<ReturnType<typeof declaredModule.Guest.instantiate<UpperExports>>>['exports'], UpperExports>>,
  Assert<Same<Awaited<ReturnType<typeof implementedModule.Guest.instantiate<UpperExports>>>['exports'], UpperExports>>,
];

/** What `guestmem describe --typescript` writes for the upper guest. */
interface UpperExports {
  upper(text: string): string;
}

/** What each schema among a Postcard class's static members decodes. */
type SchemaValues<P> = { [K in keyof P]: P[K] extends { decode(bytes: Uint8Array): infer T } ? T : never };

/** examples/shapes' Rect, as a Postcard schema infers it. */
type Rect = { name: string; width: number; height: number };
declare const declaredModule: typeof declared;
declare const implementedModule: typeof implemented;
const declaredRect = declaredModule.Postcard.struct({ name: declaredModule.Postcard.string, width: declaredModule.Postcard.u32, height: declaredModule.Postcard.u32 });
const implementedRect = implementedModule.Postcard.struct({
  name: implementedModule.Postcard.string,
  width: implementedModule.Postcard.u32,
  height: implementedModule.Postcard.u32,
});
const declaredList = declaredModule.Postcard.seq(declaredModule.Postcard.option(declaredModule.Postcard.u64));
const implementedList = implementedModule.Postcard.seq(implementedModule.Postcard.option(implementedModule.Postcard.u64));
