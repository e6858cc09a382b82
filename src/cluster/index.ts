// overseer/cluster: the node:cluster-compatible facade. Arrives in a later issue.
export {};
