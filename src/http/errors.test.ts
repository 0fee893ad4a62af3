import { describe, expect, it } from 'vitest';
import { ApiError, ERROR_STATUS, Errors } from './errors.js';

describe('error catalogue', () => {
  it('ERROR_STATUS (used by /openapi.json) agrees with every factory', () => {
    const made: ApiError[] = [
      Errors.invalidApiKey(),
      Errors.rateLimited(60),
      Errors.eventTooLarge(),
      Errors.batchTooLarge(),
      Errors.bodyTooLarge(),
      Errors.invalidJson(),
      Errors.invalidUtf8(),
      Errors.invalidBody(),
      Errors.invalidBatch('x'),
      Errors.batchTooManyEvents(),
      Errors.segmentTooLarge('x'),
      Errors.segmentBatchTooManyEvents(),
      Errors.validation('INVALID_EVENT_NAME', 'x'),
      Errors.invalidQuery('x'),
      Errors.unknownQuery('x', []),
      Errors.invalidUrl(),
      Errors.invalidCursor(),
      Errors.invalidRequest(),
      Errors.pathParameterTooLong(2048),
      Errors.headersTooLarge(),
      Errors.requestTimeout(1000),
      Errors.bodyStalled(),
      Errors.unsupportedEncoding('br'),
      Errors.undecodableBody('gzip'),
      Errors.connectNotAllowed(),
      Errors.busyReceiving('x'),
      Errors.shuttingDown(),
      Errors.storeRefusesWrites(),
      Errors.unsupportedMediaType(),
      Errors.routeNotFound('GET', '/x'),
      Errors.eventNotFound(),
      Errors.contactNotFound(),
      Errors.unsubscribeLinkNotFound(),
      Errors.notImplemented('a.b', 'GET', '/x'),
      Errors.methodNotAllowed('GET', ['POST']),
      Errors.emailTaken(),
      Errors.invalidCondition('rule.op: x'),
      Errors.segmentInUse(['wf_1']),
      Errors.contactLimit('TOO_MANY_CONTACT_PROPERTIES', 'x'),
      Errors.serviceUnavailable(),
      Errors.overloaded(),
      Errors.unauthenticated(),
      Errors.invalidCredentials(),
      Errors.invalidSetupLink(),
      Errors.csrf(),
      Errors.keyNotFound(),
      Errors.workspaceNotFound(),
      Errors.internal(),
    ];
    expect(made).toHaveLength(Object.keys(Errors).length);
    for (const e of made) expect(e.statusCode, e.code).toBe(ERROR_STATUS[e.code]);
  });
});
