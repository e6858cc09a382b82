// Preloaded into every overseer/cluster worker with --require: CommonJS, so it runs to the
// end before the program's first line (an --import preload would let the event loop turn,
// and a message the primary sent at once could arrive before the program listens for it).
require('./child.js');
