import { nodeHttpApp } from './support/apps/node-http-app.js';
import { describePaymentMiddleware } from './support/payment-middleware-suite.js';

describePaymentMiddleware('node:http', nodeHttpApp, { bodyDetails: false });
