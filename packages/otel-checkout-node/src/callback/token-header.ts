/**
 * The request header the callback middleware reads a flow token from unless its `header`
 * option names another. The redaction processor treats it as a sensitive name, so a recorded
 * copy of the header (`http.request.header.x-otc-flow`) does not export the token.
 */
export const DEFAULT_TOKEN_HEADER = 'x-otc-flow';
