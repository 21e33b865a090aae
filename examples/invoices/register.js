// Makes `require('cdk-split-store')` resolve to this repository, as it would after
// `npm install cdk-split-store` in your own project. Only the examples inside the
// repository need it: the package does not depend on itself.
//
// The name maps to the package's public entry point, src/index.ts (the source of
// lib/index.js), so the example runs against the current code without a jsii compile;
// ts-node (loaded before this file) compiles it on the fly. Jest maps the same name to
// the same file (moduleNameMapper in package.json).
'use strict';
const Module = require('module');
const path = require('path');

const ENTRY_POINT = path.resolve(__dirname, '..', '..', 'src', 'index.ts');
const resolveFilename = Module._resolveFilename;

Module._resolveFilename = function (request, ...rest) {
  return resolveFilename.call(this, request === 'cdk-split-store' ? ENTRY_POINT : request, ...rest);
};
