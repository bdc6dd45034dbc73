//! Workflow behaviour through its gRPC surface.
