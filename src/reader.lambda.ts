// Placeholder entry point so projen generates ReaderFunction; replaced by the
// reference reader (issue 3).
export const handler = async (): Promise<never> => {
  throw new Error('cdk-split-store reader: not implemented yet');
};
