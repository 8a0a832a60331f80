fn main() {
    let cli = <oc12::cli::Cli as clap::Parser>::parse();
    eprintln!("{cli:?}");
}
