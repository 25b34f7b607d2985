//! Protocol implementations that plug into the dsim engine.
