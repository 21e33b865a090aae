#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
import { InvoicesStack } from './invoices-stack';

const app = new App();
new InvoicesStack(app, 'InvoicesExample', {
  description: 'cdk-split-store example: invoices (list screen and invoice page)',
});
app.synth();
