// `make test-vectors`: writes the expected values of sdk/test-vectors from this SDK.
import { writeVectors } from '../test-vectors.js';

await writeVectors();
process.stdout.write('wrote sdk/test-vectors/*.json\n');
