export { BACKEND } from './databases.js';
