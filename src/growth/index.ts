// Growth and nutrition status: WHO z-scores, Permenkes 2/2020 categories, weight gain, and the adult KEK/BMI/blood-pressure classifiers.
export * from './who-data.js';
export * from './lms.js';
export * from './zscores.js';
export * from './status-table.js';
export * from './classify.js';
export * from './weight-gain.js';
export * from './tables.js';
