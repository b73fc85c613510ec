// The ng client lives with the SIP server's code (the hub uses it for listen-in); the test bed re-exports it.
export { ngClient, type NgClient, type NgReply } from '../sipserver/rtpengine-ng.js';
