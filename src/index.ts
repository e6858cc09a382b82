// overseer's public API. The names are fixed by DESIGN.md; the lifecycle fills it in.
export { isSupported } from './supported.js';
