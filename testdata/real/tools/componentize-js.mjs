// Builds a component from a JavaScript module with componentize-js:
//   node componentize-js.mjs SOURCE.js WIT_PATH WORLD OUT.wasm
// HTTP and fetch-event support are left out: the test components need
// neither, and the bundle is smaller without them.
import { componentize } from '@bytecodealliance/componentize-js';
import { writeFile } from 'node:fs/promises';

const [sourcePath, witPath, worldName, out] = process.argv.slice(2);
const { component } = await componentize({
  sourcePath,
  witPath,
  worldName,
  disableFeatures: ['http', 'fetch-event'],
});
await writeFile(out, component);
