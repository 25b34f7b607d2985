//! `chain-replication`: dsim's whole command line with chain replication registered beside
//! dsim's own protocols — `cargo run -p chain-replication -- run FILE`, `sweep`, `validate`,
//! `list`, ... exactly as `dsim` does.

fn main() {
    dsim::main_with(chain_replication::registry())
}
