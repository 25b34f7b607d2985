# An image with the `dsim` binary and the shipped scenario files, for running sweep shards on
# other machines (deploy/kubernetes/sweep-job.yaml, or `docker run` by hand; see the README's
# "Sweeps across machines"). Build from the repository root:
#
#   docker build -t dsim .
#   docker run --rm dsim sweep scenarios/raft/random-faults.ron --seeds 0..100
#
# The build needs only this repository (the tests' ../shared is not used).

FROM rust:1-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p cli

FROM debian:bookworm-slim
COPY --from=build /src/target/release/dsim /usr/local/bin/dsim
# Scenario files are read at run time, by relative path from here.
WORKDIR /dsim
COPY --from=build /src/scenarios /dsim/scenarios
RUN useradd --system --no-create-home dsim
USER dsim
ENTRYPOINT ["dsim"]
CMD ["--help"]
