import { registerNamespaceHooks } from './test-context.js';

registerNamespaceHooks();
