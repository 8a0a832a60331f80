fn main() {
    std::process::exit(oc12::app::main());
}
