import {
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_ORDER_ID,
  ATTR_PAYMENT_PROVIDER_TRANSACTION_ID,
  ATTR_PAYMENT_TRADE_NO,
} from '@otel-checkout/semantic-conventions/incubating';

/** What replaces the value of a denylisted key or a sensitive inline pair. */
export const REDACTED = '[REDACTED]';
/** What replaces a sensitive query parameter's value (URL-safe, so the URL stays parseable). */
export const URL_REDACTED = 'REDACTED';

/** The flow token's default query parameter (docs/flow-model.md, "The flow token"). */
export const DEFAULT_FLOW_TOKEN_PARAMETER = 'otc_flow';

/**
 * Identifiers people search by. A trade number may well pass a Luhn check; masking it would
 * make the flow unfindable, and these attributes never hold card data by contract.
 */
export const DEFAULT_EXEMPT_KEYS: readonly string[] = [
  ATTR_PAYMENT_TRADE_NO,
  ATTR_PAYMENT_ORDER_ID,
  ATTR_PAYMENT_PROVIDER_TRANSACTION_ID,
  ATTR_PAYMENT_MERCHANT_ID,
];

// OpenTelemetry's own URL attributes (current and deprecated names). They are not payment
// names, so they are not in this project's registry; spelled out here, rather than as named
// constants that every checkout page would download, to keep the package free of a dependency
// on @opentelemetry/semantic-conventions.

/** Attributes holding a URL, or a path that may carry a query: `url.full`, `url.original`, `url.path`, `http.url`, `http.target`. */
export const DEFAULT_URL_KEYS: readonly string[] = ['url.full', 'url.original', 'url.path', 'http.url', 'http.target'];
/** The attribute holding a bare query string (`a=1&b=2`). */
export const QUERY_KEY = 'url.query';
/** The attribute holding a bare fragment (may be `/route?x=1` or `a=1&b=2`). */
export const FRAGMENT_KEY = 'url.fragment';

/**
 * Denylisted names. Matched after lower-casing and dropping `-`, `_`, `.`, `[`, `]`, against the
 * last segment of a dotted key (`http.request.header.authorization`) and against its last two
 * segments joined (`card.number`), so one spelling covers the others (`card_number` also
 * stands for `card.number`, `cardNumber` and `card-number`). A name ending in one of
 * `SENSITIVE_KEY_ENDINGS` (`password`, `access_token`, `set-cookie`...) is sensitive through
 * its ending and is not repeated here, unless its words may come as two segments.
 */
export const DEFAULT_SENSITIVE_KEYS: readonly string[] = [
  'cvn',
  'csc',
  'cvv_code',
  'cvc_code',
  'security_code',
  'pan',
  'card_number',
  'pin',
  'exp',
  'expiry',
  'expiration',
  'exp_date',
  'expiry_date',
  'expiration_date',
  'exp_month',
  'exp_year',
  'expiry_month',
  'expiry_year',
  'otp',
  'sign',
  'mac',
  'checksum',
  'api_key',
  'private_key',
  'account_number',
  'bank_account',
];

/**
 * Endings that make any key sensitive (`x-csrf-token`, `session_token`, `db_password`,
 * `webhook_secret`, `card_cvv`, `vnp_SecureHash`, `paypal-transmission-sig`), also before
 * trailing digits (`x-hub-signature-256`, `cvc2`). Short words such as `pan` or `sign` are not
 * here: as endings they would hit innocent names (`span`, `campaign`). A key holding `hmac`
 * anywhere (`x-shopify-hmac-sha256`) is sensitive too.
 */
export const SENSITIVE_KEY_ENDINGS: readonly string[] = [
  'token',
  'bearer',
  'secret',
  'password',
  'passwd',
  'apikey',
  'privatekey',
  'cardnumber',
  'cvv',
  'cvc',
  'securitycode',
  'signature',
  'sig',
  'hash',
  'authorization',
  'cookie',
  'sessionid',
  'sessid',
  'accesskey',
  'credential',
  'credentials',
  'iban',
  'accountnumber',
  'expiry',
  'expiration',
  'expdate',
  'expirydate',
  'expirationdate',
  'expmonth',
  'expyear',
];
