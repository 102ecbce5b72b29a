// RFC 6749 §5.1: token endpoint answers "MUST include the HTTP Cache-Control response header
// field with a value of no-store … and Pragma with no-cache"; this service sends them on every
// /oauth/* answer, errors included (RFC 7662 and RFC 7009 answers carry token data too).
export const NO_STORE_HEADERS = Object.freeze({ 'cache-control': 'no-store', pragma: 'no-cache' });
