//! Pure model of platefarm: turnover requests and their validation, wire messages between
//! services, chunk planning and job-state rules. No IO, no clocks, no async: time and storage
//! facts are arguments.

pub mod clip;
pub mod input_space;
pub mod message;
pub mod plan;
pub mod scaling;
pub mod schedule;
pub mod state;
pub mod turnover;
pub mod validate;

pub use clip::{ClipPattern, ClipPatternError};
pub use input_space::{resolve_input_space, AmfInput, InputKind, InputSpaceError};
pub use message::{
    decode_results, ChunkMessage, ChunkOutcome, DecodeError, OutputFile, ResultBatch, ResultEvent,
    WIRE_VERSION,
};
pub use plan::{plan_chunks, ChunkSpec, PlanError, ShotFrames};
pub use schedule::{pick_chunks, Pick, TurnoverBacklog};
pub use state::{ChunkState, DeliveryState, StateCounts, TurnoverState};
pub use turnover::{
    plate_key, proxy_key, Compression, FdlSelection, FrameRange, FrameRangeError, Handles,
    OutputFormat, OutputOptions, PixelType, ProxyFormat, ProxyOptions, Shot, Turnover,
};
pub use validate::{parse_turnover, FieldError, ValidationErrors};
