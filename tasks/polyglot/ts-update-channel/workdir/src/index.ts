export { rolloutBucket } from "./bucket";
export { parseFeed, type Release } from "./feed";
export { pickUpdate, type Channel, type Client } from "./channels";
