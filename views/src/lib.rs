//! slotscope-views
