export * from './split-store';
export * from './store-base';
export * from './monitoring';
export type { SplitStoreReaderOptions } from './reader';
export type { SplitStoreReconcilerOptions } from './reconciler';
export type { SplitStoreDoctorOptions } from './doctor';
