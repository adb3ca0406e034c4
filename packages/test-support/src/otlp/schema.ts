import protobuf from 'protobufjs';

// The OTLP trace export messages, written from the message definitions and field numbers of
// opentelemetry-proto (collector/trace/v1, trace/v1, resource/v1, common/v1) plus the
// google.rpc.Status that OTLP/HTTP failure answers carry. One package keeps the schema small;
// the package name does not appear on the wire, only field numbers and wire types do.
// Field names are snake_case as in the specification; protobufjs exposes them in lowerCamelCase,
// which is also the OTLP/JSON key spelling, so both decoders read the same property names.
const OTLP_TRACE_SCHEMA = `
syntax = "proto3";
package otlp;

message AnyValue {
  oneof value {
    string string_value = 1;
    bool bool_value = 2;
    int64 int_value = 3;
    double double_value = 4;
    ArrayValue array_value = 5;
    KeyValueList kvlist_value = 6;
    bytes bytes_value = 7;
  }
}
message ArrayValue { repeated AnyValue values = 1; }
message KeyValueList { repeated KeyValue values = 1; }
message KeyValue {
  string key = 1;
  AnyValue value = 2;
}

message InstrumentationScope {
  string name = 1;
  string version = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}

message Resource {
  repeated KeyValue attributes = 1;
  uint32 dropped_attributes_count = 2;
}

message Status {
  // field 1 is reserved (a removed deprecated code)
  string message = 2;
  int32 code = 3;
}

message Event {
  fixed64 time_unix_nano = 1;
  string name = 2;
  repeated KeyValue attributes = 3;
  uint32 dropped_attributes_count = 4;
}

message Link {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  repeated KeyValue attributes = 4;
  uint32 dropped_attributes_count = 5;
  fixed32 flags = 6;
}

message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  int32 kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  uint32 dropped_attributes_count = 10;
  repeated Event events = 11;
  uint32 dropped_events_count = 12;
  repeated Link links = 13;
  uint32 dropped_links_count = 14;
  Status status = 15;
  fixed32 flags = 16;
}

message ScopeSpans {
  InstrumentationScope scope = 1;
  repeated Span spans = 2;
  string schema_url = 3;
}

message ResourceSpans {
  Resource resource = 1;
  repeated ScopeSpans scope_spans = 2;
  string schema_url = 3;
}

message ExportTraceServiceRequest {
  repeated ResourceSpans resource_spans = 1;
}

message ExportTracePartialSuccess {
  int64 rejected_spans = 1;
  string error_message = 2;
}

message ExportTraceServiceResponse {
  ExportTracePartialSuccess partial_success = 1;
}

message RpcStatus {
  int32 code = 1;
  string message = 2;
}
`;

// Enums are declared as int32 above (same varint wire type as a proto3 enum) so that values
// unknown to this schema survive decoding as plain numbers.
const root = protobuf.parse(OTLP_TRACE_SCHEMA).root;

export const ExportTraceServiceRequest = root.lookupType('otlp.ExportTraceServiceRequest');
export const ExportTraceServiceResponse = root.lookupType('otlp.ExportTraceServiceResponse');
/** google.rpc.Status, the body of an OTLP/HTTP failure answer in protobuf encoding. */
export const RpcStatus = root.lookupType('otlp.RpcStatus');
