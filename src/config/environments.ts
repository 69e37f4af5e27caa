// SATUSEHAT base URLs per environment (satusehat-platform.md §1.1). `simulator` has no fixed URL: it is the bundled
// stand-in (started by the service) or one the operator runs elsewhere (`simulatorUrl` in the facilities file).
import type { Environment } from '../platform/types.js';

export interface EnvironmentUrls {
  authBaseUrl: string;
  fhirBaseUrl: string;
}

export const ENVIRONMENT_URLS: Record<Exclude<Environment, 'simulator'>, EnvironmentUrls> = {
  production: {
    authBaseUrl: 'https://api-satusehat.kemkes.go.id/oauth2/v1',
    fhirBaseUrl: 'https://api-satusehat.kemkes.go.id/fhir-r4/v1',
  },
  sandbox: {
    authBaseUrl: 'https://api-satusehat-stg.dto.kemkes.go.id/oauth2/v1',
    fhirBaseUrl: 'https://api-satusehat-stg.dto.kemkes.go.id/fhir-r4/v1',
  },
};

/** The simulator serves the platform's paths under one origin. */
export function simulatorUrls(origin: string): EnvironmentUrls {
  const base = origin.replace(/\/+$/, '');
  return { authBaseUrl: `${base}/oauth2/v1`, fhirBaseUrl: `${base}/fhir-r4/v1` };
}

export const ENVIRONMENTS: readonly Environment[] = ['sandbox', 'production', 'simulator'];
