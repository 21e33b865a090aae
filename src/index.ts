export * from './split-store';
