// The SATUSEHAT platform client: what the sync job imports.
export * from './types.js';
export { createPlatformClient, idsFromTransactionResponse, parseLocation, patientIdFromCreateResponse, NIK_SYSTEM, NIK_IBU_SYSTEM, locationSystem, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_PAGES, DEFAULT_READ_RETRIES, readRetryDelayMs } from './client.js';
export type { PlatformClientDeps, SatusehatClient, TransactionEntryResult, CreatedResource, PatientCreateResult } from './client.js';
export { createTokenProvider, tokenUrl, DEFAULT_REFRESH_MARGIN_MS, AUTH_LOCKOUT_MS } from './token.js';
export type { TokenProvider, TokenProviderOptions, TokenState } from './token.js';
export { createFacilityLimiter, createLimiterRegistry, DEFAULT_QUOTA_PER_MINUTE, DEFAULT_MAX_CONCURRENT } from './limiter.js';
export type { FacilityLimiter, LimiterOptions, LimiterRegistry, LimiterStats, AcquireOptions } from './limiter.js';
export { toPlatformError, errorFromResponse, normaliseOutcome, rulesOf, parseRetryAfter, redactText, FORBIDDEN_RULES, HEALTHCARE_CODES } from './errors.js';
export type { PlatformLogger } from './logger.js';
