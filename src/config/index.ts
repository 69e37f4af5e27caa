export * from './errors.js';
export * from './environments.js';
export * from './facilities.js';
export * from './service.js';
export * from './hmac.js';
export * from './api-keys.js';
