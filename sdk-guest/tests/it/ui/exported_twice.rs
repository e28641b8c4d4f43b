// Two exports in one module.

use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task};

pub struct Mech;

impl Mechanism for Mech {
    type Task = ();
    type Private = ();
    type Response = ();
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::default()
    }

    fn make_task(_: &Context) -> Result<Task<(), ()>, String> {
        Ok(Task::immediate((), ()))
    }

    fn score(_: &Task<(), ()>, _: &[Response<()>], _: Option<&NoTruth>) -> Result<Scores, String> {
        Ok(Scores::default())
    }
}

sdk_guest::export_mechanism!(Mech);
sdk_guest::export_mechanism!(Mech);

fn main() {}
