// The console API client: Bearer session token, SPEC §4 error envelopes, one silent retry
// with a fresh token on 401 (the token may have expired between two refreshes).

import { SignInRequired } from "./auth.js";

export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

export function createApi(auth) {
  async function send(method, path, body, token) {
    const headers = { Accept: "application/json", Authorization: `Bearer ${token}` };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    try {
      return await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "same-origin",
        cache: "no-store",
      });
    } catch (error) {
      throw new ApiError(0, "NETWORK_ERROR", "The server could not be reached. Check your connection and retry.", null);
    }
  }

  async function call(method, path, body) {
    let response = await send(method, path, body, await auth.token());
    if (response.status === 401) {
      response = await send(method, path, body, await auth.token({ fresh: true }));
      if (response.status === 401) throw new SignInRequired("Your session has ended. Sign in again.");
    }
    const requestId = response.headers.get("X-Request-Id");
    let payload = null;
    try {
      payload = await response.json();
    } catch (error) {
      payload = null;
    }
    if (!response.ok) {
      const error = (payload && payload.error) || {};
      throw new ApiError(
        response.status,
        error.code || `HTTP_${response.status}`,
        error.message || `The server answered ${response.status}.`,
        (payload && payload.request_id) || requestId,
        error.details,
      );
    }
    return payload;
  }

  return {
    get: (path) => call("GET", path),
    post: (path, body = {}) => call("POST", path, body),
    patch: (path, body) => call("PATCH", path, body),
    delete: (path) => call("DELETE", path),
  };
}
