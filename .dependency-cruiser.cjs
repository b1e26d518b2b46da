/**
 * Layer rules, checked by `npm test` (pretest): the rank side never imports coordinator code
 * (a rank thread must not load the coordinator), storage never imports the rank or coordinator
 * runtime, and there is no import cycle anywhere.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'An import cycle makes load order matter and layers meaningless.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'rank-not-coordinator',
      severity: 'error',
      comment: 'The rank thread never loads coordinator code.',
      from: { path: '^runtime/rank/' },
      to: { path: '^runtime/coordinator/' },
    },
    {
      name: 'rank-store-entry',
      severity: 'error',
      comment: 'A rank touches LMDB only through storage/rank-store.ts, which owns the native-section handshake that makes kills safe (checkpoint-io and message-log types excepted).',
      from: { path: '^runtime/rank/' },
      to: { path: '(^storage/(env|databases|store|integrity|lmdb-check)\\.ts$)|(^node_modules/lmdb/)', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'storage-not-runtime',
      severity: 'error',
      comment: 'Storage serves both sides and depends on neither (shared types live in model/).',
      from: { path: '^storage/' },
      to: { path: '^runtime/' },
    },
    {
      name: 'model-is-a-leaf',
      severity: 'error',
      comment: 'The data model (envelopes, counters, log records, manifests, errors) imports no runtime or storage code.',
      from: { path: '^model/' },
      to: { path: '^(runtime|storage|bin|bench)/' },
    },
    {
      name: 'wire-not-storage',
      severity: 'error',
      comment: 'The wire protocol is messages, not how they are stored.',
      from: { path: '^runtime/wire\\.ts$' },
      to: { path: '^storage/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^(dist|test|node_modules)/' },
  },
};
