// A mechanism whose response type is neither serde nor schemars.

use sdk_guest::{Context, Manifest, Mechanism, NoTruth, Response, Scores, Task};

pub struct Mech;

pub struct Answer;

impl Mechanism for Mech {
    type Task = ();
    type Private = ();
    type Response = Answer;
    type Truth = NoTruth;

    fn manifest() -> Manifest {
        Manifest::default()
    }

    fn make_task(_: &Context) -> Result<Task<(), ()>, String> {
        Ok(Task::immediate((), ()))
    }

    fn score(_: &Task<(), ()>, _: &[Response<Answer>], _: Option<&NoTruth>) -> Result<Scores, String> {
        Ok(Scores::default())
    }
}

sdk_guest::export_mechanism!(Mech);

fn main() {}
