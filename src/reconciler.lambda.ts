// Placeholder entry point so projen generates ReconcilerFunction; replaced by the
// reconciler (issue 3).
export const handler = async (): Promise<never> => {
  throw new Error('cdk-split-store reconciler: not implemented yet');
};
