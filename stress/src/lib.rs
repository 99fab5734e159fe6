//! slotscope-stress
