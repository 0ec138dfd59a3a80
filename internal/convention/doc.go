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
//     one marker, [Redacted] (see "Redaction" below);
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
// # Redaction
//
// A name is secret when one of its words is a secret word
// ([Rules.SecretName]), whatever its case, separators (PASSWORD,
// Pass_Word, api-key, x-api-key, client-secret) and spelling: Unicode's
// look-alikes of ASCII letters are folded first (fullwidth forms, a soft
// hyphen or a zero-width space inside, Cyrillic and Greek letters drawn
// as Latin ones), in one pass, without allocating. A number under a name
// that counts secret things (the plural of a secret word: "api.tokens",
// gen_ai.usage.input_tokens; or "token_count") is a count and stays, when
// it has at most nine digits and no leading zero ([Rules.CountName],
// [IsCountValue]); any other value under such a name is hidden.
//
// fmt's %v prints a struct without its fields' names ({bob hunter2},
// &{bob hunter2 admin}), so [Rules.Text] cannot tell a password field by
// its name. It hides what such a struct holds when
//
//   - it is given to a secret name (password={bob hunter2}, "creds:
//     {…}"), or a word before it (48 bytes back at most, to a line break
//     or a bracket) is a secret name or a login word ("login {bob
//     hunter2}: denied", "login {bob {hunter2 x}}: denied", "invalid
//     credentials: {…}", "auth failed for &{…}"), unless, after a login
//     word, its first value is a number, as a status's is ("login {200
//     OK}");
//   - one of its values after the first mixes letters with digits and
//     signs, as passwords do ("{admin P@ssw0rd!}").
//
// Nothing else ties a value to a secret: "{bob hunter2}" alone stays, as
// "{web server01}" does, whose shape is the same.
//
// Everything else %v prints stays readable: {200 OK}, {1 2 3}, {node1
// Ready}, {bob admin}, {linux x86_64}, "got {bob hunter2} from cache" (no
// credential said, and "hunter2" alone is shaped as host names and ids
// are: server01, node2). A password-shaped value alone in a struct, or in
// a struct nested in another, is the rule's known miss; an id such as
// server01 in a struct printed alone its known false alarm.
//
// After "password: ", "passwd: ", "secret: ", "pin: " (YAML, logs; and
// "password : ", "password%3A " before a blank) and in Redis' AUTH (and
// go-redis' "auth …: <error>", CONFIG SET requirepass, HSET's secret
// fields), a plain word is taken for a password, unless it is a word of
// prose or status ("too short", "not found", "required", "AUTH failed"),
// as people choose words for passwords.
//
// The package imports only the standard library: package recording, which
// imports nothing else of appstats, uses it too.
package convention
