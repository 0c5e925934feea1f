//! XML-RPC wire encoding and decoding (filled by the client work).
