import assert from 'node:assert/strict';
import {
  attributeConstant,
  enumValueConstant,
  eventConstant,
  metricConstant,
  screamingSnake,
  spanNameConstant,
} from '../scripts/naming.js';

describe('constant naming', () => {
  it('turns dotted names into SCREAMING_SNAKE_CASE', () => {
    assert.equal(screamingSnake('payment.trade_no'), 'PAYMENT_TRADE_NO');
    assert.equal(screamingSnake('checkout.page.load_time'), 'CHECKOUT_PAGE_LOAD_TIME');
  });

  it('prefixes attributes with ATTR_', () => {
    assert.equal(attributeConstant('payment.failure.reason'), 'ATTR_PAYMENT_FAILURE_REASON');
    assert.equal(attributeConstant('payment.order.id'), 'ATTR_PAYMENT_ORDER_ID');
  });

  it('names enum values <ATTRIBUTE>_VALUE_<MEMBER>', () => {
    assert.equal(
      enumValueConstant('payment.failure.reason', 'provider_error'),
      'PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR',
    );
    assert.equal(enumValueConstant('payment.outcome', 'succeeded'), 'PAYMENT_OUTCOME_VALUE_SUCCEEDED');
  });

  it('names span names, metrics and events', () => {
    assert.equal(spanNameConstant('payment.callback.stalled'), 'SPAN_NAME_PAYMENT_CALLBACK_STALLED');
    assert.equal(metricConstant('payment.flow.duration'), 'METRIC_PAYMENT_FLOW_DURATION');
    assert.equal(eventConstant('payment.status.unmapped'), 'EVENT_PAYMENT_STATUS_UNMAPPED');
  });
});
