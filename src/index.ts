export * from './split-store';
export type { SplitStoreReaderOptions } from './reader';
export type { SplitStoreReconcilerOptions } from './reconciler';
