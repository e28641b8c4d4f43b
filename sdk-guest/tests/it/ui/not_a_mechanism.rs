// `export_mechanism!` on a type that does not implement `Mechanism`.

pub struct Plain;

sdk_guest::export_mechanism!(Plain);

fn main() {}
