// Package convention holds, once, the conventions every appstats wrapper and
// the OpenTelemetry exporter share, the way otelhttp keeps its keys in an
// internal semconv package:
//
//   - call naming: the service and method of an HTTP client call
//     ([HTTPCallName], with the path normalized by [NormalizePath]) and of a
//     gRPC call ([GRPCCallName]), and the one splitter of a gRPC full method
//     ([SplitGRPCMethod]); the bounded cache of the names and descriptions
//     of the URLs a client calls again and again ([HTTPCalls]);
//   - routes: the one route of HTTP requests no router matched
//     ([UnmatchedRoute]) and of calls to unknown gRPC methods
//     ([RouteUnknownGRPC]);
//   - the attribute keys wrappers record and the exporter writes (Key…
//     constants): OpenTelemetry semantic-convention names (v1.43.0) where
//     one exists, appstats' own under "appstats."; and the conventions'
//     values that every wrapper computes the same way ([HTTPMethod],
//     [HTTPProtocolVersion], [GRPCStatusName], [ErrorType],
//     [NetworkTransport]);
//   - redaction ([Rules]): secret names matched by word, values that look
//     secret ([SecretValue]), URLs, query strings and free texts, and the
//     quoted fragments of error messages ([ScrubError]), all hidden behind
//     one marker, [Redacted];
//   - how a string over its byte cap is cut, with a visible note of what was
//     cut ([Truncate]);
//   - the rate-limited logger for problems found in the background
//     ([Logger]);
//   - how options treat values that keep a default ([SetPositive],
//     [SetNonNil]).
//
// So the transport, the OpenTelemetry bridge and any future wrapper give the
// same request the same name, and the exporter reads names back with the
// same rules ([ParseHTTPCallName], [SplitGRPCMethod]).
//
// The package imports only the standard library: package recording, which
// imports nothing else of appstats, uses it too.
package convention
