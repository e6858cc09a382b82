// overseer/fetcher: where new versions come from. The fetchers arrive with the upgrades issue.
export {};
